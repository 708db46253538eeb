/**
 * LIGHTRAG_LLM_CACHE ids as LightRAG 1.5.6 computes them (LIGHTRAG-1.5.md §4, §7). The expected
 * values come from Python itself: test/fixtures/lightrag_cache_keys.py.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../lib/config.ts';
import { llmCacheKey } from '../../lib/graph/cached-llm.ts';
import {
  answerCacheKey,
  cachedPromptText,
  computeArgsHash,
  keywordsCacheKey,
  type LlmIdentity,
  promptCacheKey,
} from '../../lib/llm/cache-keys.ts';
import type { ChatMessage } from '../../lib/llm/types.ts';

const OPENAI: LlmIdentity = {
  binding: 'openai',
  model: 'gpt-4o-mini',
  host: 'https://api.openai.com/v1',
};
const QUESTION = 'Who designed the Analytical Engine?';

describe('LightRAG 1.5 LLM cache keys', () => {
  it('compute_args_hash: length-prefixed Python str() of each argument, code points counted', () => {
    assert.equal(computeArgsHash('a', 40, true, null, 'é😀'), 'b2329a66968e36b593b75625f2e5de0d');
    // A lone surrogate is encoded as "?" (errors="replace"), not U+FFFD.
    assert.equal(computeArgsHash('x\ud800y'), 'a4ee6157ccbd415b357c2625c3a770e4');
  });

  it('keywords: mode, question, language and the keyword identity', () => {
    assert.equal(
      keywordsCacheKey('mix', QUESTION, 'English', OPENAI),
      'mix:keywords:450c872771781ea8bf2dca8cc0176260',
    );
    // LightRAG used as a library: no binding or host.
    assert.equal(
      keywordsCacheKey('local', 'Ada Lovelace', 'English', {
        binding: null,
        model: 'gpt-4o-mini',
        host: null,
      }),
      'local:keywords:5d8e5eff8846e0523a11008b8a01aa88',
    );
  });

  it('answers: the v2 parameter list, keywords only in graph modes', () => {
    const common = {
      query: QUESTION,
      max_entity_tokens: 6000,
      max_relation_tokens: 8000,
      enable_rerank: true,
    };
    assert.equal(
      answerCacheKey(
        {
          ...common,
          mode: 'mix',
          response_type: 'Multiple Paragraphs',
          top_k: 40,
          chunk_top_k: 20,
          max_total_tokens: 30000,
          keywords: {
            high: ['computing', 'machines'],
            low: ['Charles Babbage', 'Analytical Engine'],
          },
        },
        OPENAI,
      ),
      'mix:query:9b2b19972ae12c07b5957ccf2266bed2',
    );
    assert.equal(
      answerCacheKey(
        {
          ...common,
          mode: 'naive',
          response_type: 'Bullet Points',
          top_k: 10,
          chunk_top_k: 5,
          max_total_tokens: 12000,
          enable_rerank: false,
        },
        OPENAI,
      ),
      'naive:query:9570bc001a6c81d08bd11a420380de47',
    );
  });

  it('extraction and summaries: user prompt, system prompt, history as Python JSON', () => {
    const gleaning: ChatMessage[] = [
      { role: 'system', content: 'You extract entities.' },
      { role: 'user', content: 'Extract from: Zoë' },
      { role: 'assistant', content: 'A\tB' },
      { role: 'user', content: 'Continue.' },
    ];
    assert.equal(
      cachedPromptText(gleaning),
      'Continue.\nYou extract entities.\n[{"role": "user", "content": "Extract from: Zo\\u00eb"}, {"role": "assistant", "content": "A\\tB"}]',
    );
    assert.equal(
      promptCacheKey('extract', gleaning, { json: false }, OPENAI),
      'default:extract:24febba82a89c7291e43e3589c298e8c',
    );
    const summary: ChatMessage[] = [
      { role: 'system', content: 'You summarise.' },
      { role: 'user', content: 'Summarise Ada.' },
    ];
    const bedrock = {
      binding: 'aws_bedrock',
      model: 'anthropic.claude-3-5-haiku-20241022-v1:0',
      host: null,
    };
    assert.equal(
      promptCacheKey('summary', summary, { json: true }, bedrock),
      'default:summary:9cf8c3acf1a1abf5c74878e8b678a625',
    );
    assert.equal(
      llmCacheKey(
        { cacheType: 'summary', messages: summary, options: { json: true } },
        {
          identity: bedrock,
        },
      ),
      'default:summary:9cf8c3acf1a1abf5c74878e8b678a625',
    );
  });

  it('the identity comes from LLM_BINDING, LLM_MODEL and LLM_BINDING_HOST, as a LightRAG server names it', () => {
    const base = { LLM_MODEL: 'gpt-4o-mini', LLM_API_KEY: 'k', EMBEDDING_DIM: '8' };
    const identity = (env: Record<string, string>) =>
      loadConfig({ ...base, ...env }).llm.cacheIdentity;
    assert.deepEqual(identity({ LLM_PROVIDER: 'openai' }), OPENAI);
    assert.deepEqual(
      identity({ LLM_PROVIDER: 'openai', LLM_BASE_URL: 'http://127.0.0.1:8000/v1/' }).host,
      'http://127.0.0.1:8000/v1',
    );
    assert.equal(
      identity({ LLM_PROVIDER: 'openai', LLM_API_VERSION: '2024-10-21' }).binding,
      'azure_openai',
    );
    assert.deepEqual(identity({ LLM_PROVIDER: 'bedrock', LLM_MODEL: 'amazon.nova-lite-v1:0' }), {
      binding: 'aws_bedrock',
      model: 'amazon.nova-lite-v1:0',
      host: null,
    });
    assert.deepEqual(
      identity({ LLM_PROVIDER: 'openai', LLM_BINDING: 'ollama', LLM_BINDING_HOST: 'none' }),
      { binding: 'ollama', model: 'gpt-4o-mini', host: null },
    );
    assert.throws(
      () => loadConfig({ ...base, LLM_PROVIDER: 'openai', LLM_BINDING: 'open ai' }),
      /LLM_BINDING/,
    );
  });
});
