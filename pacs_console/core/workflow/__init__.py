"""The modality workflow: play a modality against the site (SCU) or play the site (SCPs)."""
