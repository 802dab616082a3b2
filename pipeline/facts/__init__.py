"""Facts: corrected utterances -> facts with evidence (rules, classifiers, the fact combiner)."""
