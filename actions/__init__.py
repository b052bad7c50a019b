"""Custom Rasa actions (rasa-sdk): thin steps that read slots, call policy/ and the data layer.

rasa-sdk imports every submodule of this package and registers its Action classes.
"""
