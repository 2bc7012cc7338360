"""The patient portal's storage services: accounts and sign-in, appointment requests, questionnaires,
the patient's own view of their case, and the outbox. The patient is the actor of every audit entry
written here (``patient:<reference>``); services never commit."""
