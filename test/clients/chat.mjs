// Non-streaming chat through both client libraries.
import { openai, ollama, persona, check, run } from './common.mjs';

await run('chat', async () => {
  const oa = await openai.chat.completions.create({
    model: persona, max_tokens: 8, seed: 1, temperature: 0, messages: [{ role: 'user', content: 'hello' }],
  });
  check(oa.object === 'chat.completion', 'openai object ' + oa.object);
  check(typeof oa.choices[0].message.content === 'string', 'openai content');
  check(oa.usage.prompt_tokens > 0, 'openai usage');

  const ol = await ollama.chat({
    model: persona, stream: false, options: { num_predict: 8, seed: 1, temperature: 0 }, messages: [{ role: 'user', content: 'hello' }],
  });
  check(ol.done === true && typeof ol.message.content === 'string', 'ollama chat');

  const models = await openai.models.list();
  const ids = models.data.map((m) => m.id);
  check(ids.includes(persona), 'persona in /v1/models: ' + ids);
  const list = await ollama.list();
  check(list.models.some((m) => m.name === persona), 'persona in ollama.list()');
  return { openai_finish: oa.choices[0].finish_reason, ollama_eval: ol.eval_count };
});
