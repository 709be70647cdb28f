// "Did you mean": the closest known word to a misspelled one. Hand-written (20 lines) rather than
// a package because a swap of two neighbouring letters (`staet`) must count as one edit, which
// the common Levenshtein packages count as two.

/** Edit distance with adjacent transpositions (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The candidates nearest to `word` when they are near enough to be a typo of it (about one edit
 * in three letters, at least one; case ignored), best first; empty when none is.
 */
export function nearest(word: string, candidates: Iterable<string>): string[] {
  const w = word.toLowerCase();
  const limit = Math.max(1, Math.floor(w.length / 3));
  let best: string[] = [];
  let bestDistance = limit + 1;
  for (const c of new Set(candidates)) {
    const dist = editDistance(w, c.toLowerCase());
    if (dist > limit) continue;
    if (dist < bestDistance) [best, bestDistance] = [[c], dist];
    else if (dist === bestDistance) best.push(c);
  }
  return best;
}

/** `; did you mean "X"?` (or `"X" or "Y"`) for the end of a message, or nothing. */
export function didYouMean(word: string, candidates: Iterable<string>, render: (s: string) => string = (s) => `"${s}"`): string {
  const near = nearest(word, candidates).slice(0, 3);
  return near.length === 0 ? '' : `; did you mean ${near.map(render).join(' or ')}?`;
}
