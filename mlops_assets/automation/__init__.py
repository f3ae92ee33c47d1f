"""Jobs per lifecycle stage, schedules and sensors."""
