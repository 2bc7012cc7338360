"""The team's inbox of secure messages from patients (decision 0035)."""
