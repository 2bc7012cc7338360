"""Intake: turning case files (JSON or YAML) into validated clinical facts."""
