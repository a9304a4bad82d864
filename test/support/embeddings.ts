/**
 * Embeddings built for a test: 1536 numbers (the schema's size) pointing along a few chosen
 * axes, so which memory is near which question is known without a model.
 */
const EMBEDDING_SIZE = 1536;

/** A unit vector with the given weight on each axis (axis index -> weight), zero elsewhere. */
export function embedding(weights: Record<number, number>): number[] {
  const vector = new Array<number>(EMBEDDING_SIZE).fill(0);
  for (const [axis, weight] of Object.entries(weights)) vector[Number(axis)] = weight;
  const length = Math.hypot(...vector);
  return vector.map((value) => value / length);
}

/** Cosine similarity, as agent_private.cosine_similarity computes it. */
export function cosine(a: number[], b: number[]): number {
  let dot = 0;
  for (let index = 0; index < a.length; index += 1) dot += a[index]! * b[index]!;
  return dot / (Math.hypot(...a) * Math.hypot(...b));
}
