// Words and word pairs of a text cell: the vocabulary of a text column is made of these.
const WORD = /[\p{L}\p{N}]+/gu;

/**
 * The distinct grams of `text`: its words (runs of letters and digits, lowercased by the
 * locale-independent Unicode rules, so every runtime agrees) and, with `ngrams` 2, each pair of
 * adjacent words joined by one space.
 *
 * @example
 * textGrams('Free money, FREE!', 2); // ['free', 'money', 'free money', 'money free']
 */
export function textGrams(text: string, ngrams: 1 | 2): string[] {
  const words = textWords(text);
  const grams = new Set(words);
  if (ngrams === 2) for (let i = 1; i < words.length; i++) grams.add(`${words[i - 1]} ${words[i]}`);
  return [...grams];
}

/** The words of `text`, lowercased, in order (repeats kept). */
export const textWords = (text: string): string[] => text.toLowerCase().match(WORD) ?? [];
