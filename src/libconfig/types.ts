// The tree a libconfig document parses into. Every value keeps the file and line it came from,
// so that a validator can report `FILE:LINE: message` for a setting that parses but is wrong.

/** A position in a source file; `line` counts from 1. */
export interface Position {
  readonly file: string;
  readonly line: number;
}

/** A `name = value;` setting inside a group, in file order. */
export interface Setting {
  readonly name: string;
  readonly value: Value;
  readonly position: Position;
}

export interface GroupValue {
  readonly kind: 'group';
  readonly settings: readonly Setting[];
  readonly position: Position;
}

/** `[ ... ]`: scalars that all share one kind (int and int64 are different kinds, as in the C library). */
export interface ArrayValue {
  readonly kind: 'array';
  readonly items: readonly ScalarValue[];
  readonly position: Position;
}

/** `( ... )`: values of any kind, groups, arrays and lists included. */
export interface ListValue {
  readonly kind: 'list';
  readonly items: readonly Value[];
  readonly position: Position;
}

export interface IntValue {
  readonly kind: 'int';
  readonly value: number;
  readonly position: Position;
}

export interface Int64Value {
  readonly kind: 'int64';
  readonly value: bigint;
  readonly position: Position;
}

export interface FloatValue {
  readonly kind: 'float';
  readonly value: number;
  readonly position: Position;
}

export interface BoolValue {
  readonly kind: 'bool';
  readonly value: boolean;
  readonly position: Position;
}

export interface StringValue {
  readonly kind: 'string';
  readonly value: string;
  readonly position: Position;
}

export type ScalarValue = IntValue | Int64Value | FloatValue | BoolValue | StringValue;
export type Value = GroupValue | ArrayValue | ListValue | ScalarValue;
