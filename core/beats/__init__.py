"""Beat and downbeat tracking with pretrained networks (see ``core.beats.beatnet``)."""
