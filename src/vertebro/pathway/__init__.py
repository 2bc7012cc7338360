"""The patient's path: states, transitions, guards and the pre-procedure checklist (pure)."""
