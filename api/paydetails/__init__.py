"""The pay-now routes: payment details, EPC QR code, agreement (built in `domain.paydetails`)."""
