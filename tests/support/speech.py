"""Scoring speech recognition: the word error rate against what was said (the speech tests
and `make bench-speech`)."""

import re


def words(text: str) -> list[str]:
    return re.sub(r"[^\w\s']", " ", text.lower()).split()


def word_error_rate(reference: str, heard: str) -> float:
    """Edit distance over the words (substitutions, insertions, deletions) per reference word."""
    expected, got = words(reference), words(heard)
    previous = list(range(len(got) + 1))
    for i, word in enumerate(expected, 1):
        row = [i]
        for j, other in enumerate(got, 1):
            row.append(min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (word != other)))
        previous = row
    return previous[-1] / len(expected)
