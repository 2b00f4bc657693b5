"""The thesis scorecard: claims of the capital-rotation story, checked against the data."""
