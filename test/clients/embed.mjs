// Embeddings through both client libraries (the openai package asks for
// base64 by default and decodes it).
import { openai, ollama, embedder, check, run } from './common.mjs';

await run('embed', async () => {
  const oa = await openai.embeddings.create({ model: embedder, input: ['hello world', 'second'] });
  check(oa.data.length === 2, 'openai embeddings count');
  const dims = oa.data[0].embedding.length;
  check(dims > 0 && oa.data[0].embedding.every(Number.isFinite), 'openai embedding values');

  const ol = await ollama.embed({ model: embedder, input: ['hello world', 'second'] });
  check(ol.embeddings.length === 2 && ol.embeddings[0].length === dims, 'ollama embed shape');
  const diff = Math.max(...ol.embeddings[0].map((v, i) => Math.abs(v - oa.data[0].embedding[i])));
  check(diff < 1e-5, 'openai and ollama embeddings agree, max diff ' + diff);
  return { dims };
});
