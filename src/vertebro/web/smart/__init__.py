"""vertebro launched from an EHR as a SMART app (EHR launch): launch, callback, and opening the chart."""
