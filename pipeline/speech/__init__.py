"""Speech: recording -> utterances (decode, VAD, Whisper with its guards, voice, speakers)."""
