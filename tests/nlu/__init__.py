"""Tests of the nlu package."""
