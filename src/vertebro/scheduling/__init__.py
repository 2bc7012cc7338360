"""The procedure scheduler: a CP-SAT model of rooms, staff and recovery bays, and its baseline.

Pure model code: instances in (:mod:`.instance`), plans out (:mod:`.plan`). It imports the clinical core
for room and monitoring times, never the command line or the web.
"""
