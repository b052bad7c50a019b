"""The website chat's demo page: a creditor's page with the rasa-webchat widget."""
