"""The procedure room over DICOM (issue 16, decision 0023).

* a Modality Worklist provider (C-FIND SCP): each booked procedure is a scheduled procedure step;
* Modality Performed Procedure Step (N-CREATE / N-SET SCP): what the modality reports is stored and shown, it
  never moves the pathway;
* Radiation Dose Structured Reports (C-STORE SCP): parsed and stored with the procedure, compared with the
  reference levels and the follow-up thresholds of :mod:`vertebro.clinical.dose`.

Layers: this package uses the store; the command line and the web use it.
"""
