"""Pay now: the payment details, EPC QR code and printable agreement of a recorded promise.

`details` builds what the debtor pays where from a stored promise (the action server
reads it for the confirmation, the gateway for the QR code and the agreement);
`links` signs the unguessable, expiring links to them; `epc` draws the QR code (segno)
and `agreement` the agreement (HTML, and PDF with fpdf2), both in the gateway only;
`api.paydetails.views` serves them.
"""
