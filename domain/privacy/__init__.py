"""Data subject rights (GDPR Art. 15 and 17) and storage limitation (Art. 5(1)(e)).

One person's data is found by `person.holdings`, exported by `export`, erased by
`erase` and, once their claims are settled, their transcripts are anonymised by
`retention`. Requests made in chat are recorded for agents by `requests`.
"""
