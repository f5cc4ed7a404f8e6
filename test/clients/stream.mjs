// Streaming chat through both client libraries, plus an error surfacing as
// a thrown error rather than a hang.
import { openai, ollama, persona, check, run } from './common.mjs';

await run('stream', async () => {
  const stream = await openai.chat.completions.create({
    model: persona, max_tokens: 8, seed: 1, temperature: 0, stream: true, stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'hello' }],
  });
  let chunks = 0, finish = null, usage = null;
  for await (const c of stream) {
    chunks++;
    if (c.choices.length && c.choices[0].finish_reason) finish = c.choices[0].finish_reason;
    if (c.usage) usage = c.usage;
  }
  check(chunks >= 2 && finish && usage, `openai stream chunks=${chunks} finish=${finish} usage=${!!usage}`);

  const parts = await ollama.chat({
    model: persona, stream: true, options: { num_predict: 8, seed: 1, temperature: 0 }, messages: [{ role: 'user', content: 'hello' }],
  });
  let n = 0, done = false;
  for await (const p of parts) { n++; done = done || p.done; }
  check(n >= 2 && done, `ollama stream parts=${n} done=${done}`);

  let notFound = false;
  try {
    await openai.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] });
  } catch (err) {
    notFound = err.status === 404;
  }
  check(notFound, 'unknown model raises a 404 APIError');
  return { openai_chunks: chunks, ollama_parts: n };
});
