"""Nothing registered: study data (participants, transcripts, coding) is reached only through
the study pages, by the study team, and every read is audited."""
