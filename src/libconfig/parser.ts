// The grammar of libconfig 1.8 (lib/grammar.y) as a recursive-descent parser over the scanner's
// tokens. It builds the position-keeping tree of types.ts; it does not read files itself.

import { LibconfigSyntaxError, messages } from './errors.js';
import { Scanner, type Token } from './scanner.js';
import type { GroupValue, Position, ScalarValue, Setting, Value } from './types.js';

const SCALAR_START = new Set(['bool', 'int', 'int64', 'float', 'string']);
const VALUE_START = new Set([...SCALAR_START, '{', '[', '(']);

/** Parses one document, token by token, with one token of lookahead as bison does. */
export class Parser {
  readonly #scanner: Scanner;
  #lookahead: Token | undefined;
  #last!: Token;

  constructor(scanner: Scanner) {
    this.#scanner = scanner;
  }

  /** Parses the whole input as the root group. */
  parseRoot(): GroupValue {
    const first = this.#peek();
    const settings = this.#settings('eof', 'Cannot parse configuration');
    return { kind: 'group', settings, position: { file: first.file, line: 1 } };
  }

  #peek(): Token {
    this.#lookahead ??= this.#scanner.next();
    return this.#lookahead;
  }

  #take(): Token {
    const token = this.#peek();
    this.#lookahead = undefined;
    this.#last = token;
    return token;
  }

  // Bison reports an error on the line the scanner has reached: the end of the lookahead.
  #fail(token: Token, detail: string): never {
    throw new LibconfigSyntaxError(token.file, token.endLine, detail);
  }

  #expect(kind: string, context: string): Token {
    const token = this.#take();
    if (token.kind !== kind) this.#fail(token, messages.unexpected(context, token));
    return token;
  }

  // setting_list_optional, up to (not including) the closing token.
  #settings(end: 'eof' | '}', context: string): Setting[] {
    const settings: Setting[] = [];
    const seen = new Set<string>();
    for (let token = this.#peek(); token.kind !== end; token = this.#peek()) {
      if (token.kind !== 'name') this.#fail(token, messages.unexpected(context, token));
      this.#take();
      // The C library adds the setting (and finds the duplicate) before it reads on.
      if (seen.has(token.text)) this.#fail({ ...token, endLine: token.line }, messages.duplicate(token.text));
      seen.add(token.text);
      const settingContext = messages.settingContext(token.text);
      this.#expect('=', settingContext);
      const value = this.#value(settingContext);
      const terminator = this.#peek().kind;
      if (terminator === ';' || terminator === ',') this.#take();
      settings.push({ name: token.text, value, position: { file: token.file, line: token.line } });
    }
    return settings;
  }

  #value(context: string): Value {
    const token = this.#peek();
    if (SCALAR_START.has(token.kind)) return this.#scalar();
    this.#take();
    const position = { file: token.file, line: token.line };
    if (token.kind === '{') {
      const settings = this.#settings('}', context);
      this.#take();
      return { kind: 'group', settings, position };
    }
    if (token.kind === '(') return { kind: 'list', items: this.#items(')', context, () => this.#value(context)), position };
    if (token.kind === '[') return this.#array(position, context);
    return this.#fail(token, messages.unexpected(context, token));
  }

  #array(position: Position, context: string): Value {
    const items: ScalarValue[] = [];
    this.#items(']', context, () => {
      const item = this.#scalar();
      const first = items[0];
      // Every element must have the kind of the first one, int and int64 included
      // (__config_list_checktype in lib/libconfig.c compares the types exactly).
      if (first && first.kind !== item.kind) {
        // A string is checked once the token after it is read (it may continue); others at once.
        const at = item.kind === 'string' ? this.#peek() : { ...this.#last, endLine: item.position.line };
        this.#fail(at, messages.mixedArray(first.kind, item.kind));
      }
      items.push(item);
      return item;
    });
    return { kind: 'array', items, position };
  }

  // value_list / simple_value_list: values separated by commas, any number of trailing
  // commas allowed (1.7 and later), none leading.
  #items<T>(end: ')' | ']', context: string, item: () => T): T[] {
    const items: T[] = [];
    const itemStart = end === ']' ? SCALAR_START : VALUE_START;
    let token = this.#peek();
    if (token.kind !== end) {
      if (!itemStart.has(token.kind)) this.#fail(token, messages.unexpected(context, token));
      items.push(item());
      for (token = this.#peek(); token.kind !== end; token = this.#peek()) {
        if (token.kind !== ',') this.#fail(token, messages.unexpected(context, token));
        this.#take();
        if (itemStart.has(this.#peek().kind)) items.push(item());
      }
    }
    this.#take();
    return items;
  }

  #scalar(): ScalarValue {
    const token = this.#take();
    const position = { file: token.file, line: token.line };
    switch (token.kind) {
      case 'bool':
      case 'int':
      case 'int64':
      case 'float':
        return { kind: token.kind, value: token.value, position } as ScalarValue;
      case 'string': {
        // Adjacent strings are one value.
        let value = token.value;
        while (this.#peek().kind === 'string') value += (this.#take() as Token & { value: string }).value;
        return { kind: 'string', value, position };
      }
      default:
        return this.#fail(token, messages.unexpected('Cannot parse value', token));
    }
  }
}
