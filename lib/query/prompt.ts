/**
 * The answer prompts: answer only from the context, in Markdown, in the requested response type,
 * ending with a "### References" section of at most five sources.
 */
import type { ChatMessage } from '../llm/types.ts';
import { type ContextChunk, naiveContext, type Reference } from './context.ts';
import type { QueryRequest } from './request.ts';

function instructions(request: QueryRequest, source: string): string[] {
  return [
    '---Instructions---',
    `- Answer only from the ${source}. If it does not contain the answer, say that you do not know.`,
    '- Do not invent facts, sources or numbers.',
    `- Format: ${request.response_type}, in Markdown, in the language of the question.`,
    '- End with a "### References" section listing at most 5 of the references you used, as "- [n] source".',
    ...(request.user_prompt ? [`- Additional instructions: ${request.user_prompt}`] : []),
  ];
}

/**
 * The prompt as one text (LightRAG's `only_need_prompt`): the system prompt, the conversation,
 * then the question.
 */
export function promptText(messages: readonly ChatMessage[]): string {
  return messages
    .map((m) =>
      m.role === 'system'
        ? m.content
        : `---${m.role === 'user' ? 'User' : 'Assistant'}---\n${m.content}`,
    )
    .join('\n\n');
}

function messages(request: QueryRequest, system: string): ChatMessage[] {
  return [
    { role: 'system', content: system },
    ...request.conversation_history,
    { role: 'user', content: request.query },
  ];
}

/** `naive`: document chunks only. */
export function naiveMessages(
  request: QueryRequest,
  chunks: readonly ContextChunk[],
  references: readonly Reference[],
): ChatMessage[] {
  const system = [
    '---Role---',
    'You answer questions using the document chunks of a knowledge base, given below.',
    '',
    ...instructions(request, 'Document Chunks'),
    '',
    naiveContext(chunks, references),
  ].join('\n');
  return messages(request, system);
}

/** The graph modes: entities, relations, chunks and references, formatted by context.ts. */
export function graphMessages(request: QueryRequest, context: string): ChatMessage[] {
  const system = [
    '---Role---',
    'You are an assistant that answers questions from a knowledge graph and document chunks, given below as Context.',
    '',
    ...instructions(request, 'Context'),
    '- Use the entities and relationships to connect facts; cite document chunks by their reference_id.',
    '',
    '---Context---',
    context,
  ].join('\n');
  return messages(request, system);
}

/** `bypass`: the question alone, after the conversation. */
export function bypassMessages(request: QueryRequest): ChatMessage[] {
  return [...request.conversation_history, { role: 'user', content: request.query }];
}
