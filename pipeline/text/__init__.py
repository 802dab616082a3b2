"""Text: utterances -> corrected utterances (Simplified script, homophones, misheard terms, numbers)."""
