// Hand-written libconfig inputs with what libconfig 1.8 makes of them: canonical JSON, or the
// line of the error. `differs` marks the cases where Debian's 1.5 answers otherwise (and says how).

export interface Case {
  readonly name: string;
  readonly input: string;
  /** Canonical JSON, or `{ errorLine }` for an input 1.8 rejects. */
  readonly expected: string | { readonly errorLine: number };
  /** What Debian's libconfig 1.5 does instead, when it differs. */
  readonly differs?: string;
}

const ok = (name: string, input: string, expected: string, differs?: string): Case => ({ name, input, expected, differs });
const bad = (name: string, input: string, errorLine: number, differs?: string): Case => ({ name, input, expected: { errorLine }, differs });

export const cases: readonly Case[] = [
  // Settings, separators, terminators
  ok('accepts = and :', 'a = 1; b : 2;', '{"a":1,"b":2}'),
  ok('accepts a comma as terminator', 'a = 1, b = 2,', '{"a":1,"b":2}'),
  ok('accepts a missing terminator at end of file', 'a = 1', '{"a":1}'),
  ok('accepts a missing terminator at end of group', 'g = { a = 1 };', '{"g":{"a":1}}'),
  ok('accepts settings with no terminator between them', 'a = 1 b = 2', '{"a":1,"b":2}'),
  ok('accepts names with - _ * and digits', '*x-1_y* = 1; Ab9 = 2;', '{"*x-1_y*":1,"Ab9":2}'),
  ok('accepts an empty document', '', '{}'),
  bad('rejects a name starting with a digit', 'a = 1;\n9a = 2;', 2),
  bad('rejects a name starting with _', '\n_a = 1;', 2),
  bad('rejects a doubled terminator', 'a = 1;;', 1),
  bad('rejects a missing value', 'a = ;', 1),
  bad('rejects a missing equals', 'a 1;', 1),
  bad('rejects a setting cut off at end of file', 'a = 1;\nb =\n', 3),
  bad('rejects a stray character', 'a = 1;\n\n$', 3),
  bad('rejects a duplicate setting on its line', 'a = 1;\nb = 2;\na = 3;', 3),
  bad('rejects a duplicate setting in a group', 'g = {\n x = 1;\n x = 2; };', 3),
  ok('accepts the same name in different groups', 'a = 1; g = { a = 2; };', '{"a":1,"g":{"a":2}}'),
  ok('treats names case-sensitively', 'a = 1; A = 2;', '{"a":1,"A":2}'),
  // Groups, arrays, lists
  ok('accepts nested groups and empty aggregates', 'g = { h = { }; a = [ ]; l = ( ); };', '{"g":{"h":{},"a":[],"l":[]}}'),
  ok('accepts lists of anything', 'l = ( 1, "a", [1, 2], { x = 1; }, ( true ) );', '{"l":[1,"a",[1,2],{"x":1},[true]]}'),
  ok('accepts a trailing comma in an array', 'a = [1, 2,];', '{"a":[1,2]}', '1.5: syntax error'),
  ok('accepts a trailing comma in a list', 'l = (1, "x",);', '{"l":[1,"x"]}', '1.5: syntax error'),
  ok('accepts repeated commas in an array', 'a = [1,, 2];', '{"a":[1,2]}', '1.5: syntax error'),
  bad('rejects a leading comma in an array', 'a = [, 1];', 1),
  bad('rejects an array in an array', 'a = [\n [1] ];', 2),
  bad('rejects a group in an array', 'a = [ { } ];', 1),
  bad('rejects int then float in an array', 'a = [1,\n 2.0];', 2),
  bad('rejects float then int in an array', 'a = [1.0, 2];', 1),
  bad('rejects int then int64 in an array', 'a = [1,\n 2L];', 2),
  bad('rejects a bool after ints in an array', 'a = [1, true];', 1),
  bad('rejects a string after ints on the line of the next token', 'a = [1, "x"\n];', 2),
  bad('rejects an unclosed group', 'g = {\n a = 1;\n', 3),
  bad('rejects an unclosed list', 'l = (1,\n 2', 2),
  bad('rejects a setting inside a list', 'l = ( a = 1 );', 1),
  bad('rejects a closing bracket of the wrong kind', 'l = ( 1 ];', 1),
  // Integers
  ok('reads decimal integers with a sign', 'a = -5; b = +7; c = 0;', '{"a":-5,"b":7,"c":0}'),
  ok('reads hex integers', 'a = 0x1F; b = 0XfF;', '{"a":31,"b":255}'),
  ok('wraps a 32-bit hex value into an int', 'a = 0xFFFFFFFF;', '{"a":-1}'),
  ok('promotes a hex value beyond 32 bits', 'a = 0x100000000;', '{"a":4294967296}', '1.5: truncated to 32 bits (0)'),
  ok('reads 64-bit hex with L', 'a = 0xFFFFFFFFFFFFFFFFL;', '{"a":-1}'),
  ok('reads binary integers', 'a = 0b101; b = 0B11L;', '{"a":5,"b":3}', '1.5: syntax error'),
  ok('reads L and LL suffixes as int64', 'a = 1L; b = 2LL; c = -9223372036854775808L;', '{"a":1,"b":2,"c":"-9223372036854775808"}'),
  ok('keeps int32 extremes as int', 'a = 2147483647; b = -2147483648;', '{"a":2147483647,"b":-2147483648}'),
  ok('promotes an integer beyond 32 bits to int64', 'a = 2147483648; b = -2147483649;', '{"a":2147483648,"b":-2147483649}', '1.5: wraps at 32 bits'),
  ok('prints int64 beyond 2^53 as a string', 'a = 9007199254740993L; b = 9007199254740992L;', '{"a":"9007199254740993","b":9007199254740992}'),
  bad('rejects an integer beyond 64 bits', 'a = 1;\nb = 99999999999999999999;', 2, '1.5: wraps silently'),
  bad('rejects an L integer beyond 64 bits', 'a = 9223372036854775808L;', 1, '1.5: clamps to the maximum'),
  bad('rejects hex beyond 64 bits', 'a = 0x1FFFFFFFFFFFFFFFF;', 1, '1.5: truncated to 32 bits'),
  ok('reads a leading zero as decimal', 'a = 010; b = -017; c = 09; d = 010L; e = [007, 08];', '{"a":10,"b":-17,"c":9,"d":10,"e":[7,8]}'),
  ok('reads 0o and 0q octal in either case', 'a = 0o17; b = 0O17; c = 0q17; d = 0Q17; e = 0o0;', '{"a":15,"b":15,"c":15,"d":15,"e":0}', '1.5: syntax error'),
  ok('reads octal L and LL suffixes as int64', 'a = 0o17L; b = 0Q17LL;', '{"a":15,"b":15}', '1.5: syntax error'),
  ok('wraps a 32-bit octal value into an int', 'a = 0o37777777777;', '{"a":-1}', '1.5: syntax error'),
  ok('promotes an octal value beyond 32 bits', 'a = 0o40000000000; b = 0q1777777777777777777777;', '{"a":4294967296,"b":-1}', '1.5: syntax error'),
  bad('rejects octal beyond 64 bits', 'a = 1;\nb = 0o2000000000000000000000;', 2),
  bad('rejects 8 and 9 in an octal literal', 'a = 1;\nb = 0o8;\nc = 0Q19;', 2),
  bad('rejects 9 in an octal literal with L', 'a = 0q19L;', 1),
  bad('rejects a 0o prefix without digits', 'a = 1;\nb = 0o;', 2),
  ok('splits a number glued to a name into two tokens', 'a = 1 b = 0x1G = 2;', '{"a":1,"b":1,"G":2}'),
  // Floats
  ok('reads floats with fraction and exponent', 'a = 1.5; b = -2.; c = .25; d = 1e3; e = 1.5E-3; f = +3e+2;', '{"a":1.5,"b":-2.0,"c":0.25,"d":1000.0,"e":0.0015,"f":300.0}'),
  ok('prints setting floats with %.17g', 'a = 0.1;', '{"a":0.10000000000000001}'),
  ok('prints element floats with the shortest form', 'a = [0.1, 1e100, 1e-7];', '{"a":[0.1,1e+100,1e-07]}'),
  ok('reads a lone dot as zero, as atof does', 'a = .;', '{"a":0.0}'),
  ok('reads an overflowing float as infinity', 'a = 1e999; b = [-1e999];', '{"a":1e999,"b":[-1e999]}'),
  ok('keeps negative zero', 'a = -0.0;', '{"a":-0.0}'),
  // Booleans
  ok('reads booleans in any case', 'a = true; b = FALSE; c = TrUe;', '{"a":true,"b":false,"c":true}'),
  ok('reads a longer word as a name', 'a = 1; truex = 2;', '{"a":1,"truex":2}'),
  bad('rejects a bare word as a value', 'a = yes;', 1),
  // Strings
  ok('reads the 1.5 escapes', String.raw`s = "q\"b\\f\fn\nr\rt\t";`, '{"s":"q\\"b\\\\f\\fn\\nr\\rt\\t"}'),
  ok('reads \\a \\b \\v as 1.8 does', String.raw`s = "\a\b\v";`, '{"s":"\\u0007\\b\\u000b"}', '1.5: kept as backslash and letter'),
  ok('reads \\x escapes', String.raw`s = "\x41\x7a";`, '{"s":"Az"}'),
  ok('reads UTF-8 made of \\x escapes', String.raw`s = "\xC3\xA9";`, '{"s":"é"}'),
  ok('keeps a backslash before an unknown escape', String.raw`s = "\q\x4";`, '{"s":"\\\\q\\\\x4"}'),
  ok('concatenates adjacent strings across comments', 's = "a" /* c */ "b" // d\n "c";', '{"s":"abc"}'),
  ok('reads a string across lines', 's = "a\nb";', '{"s":"a\\nb"}'),
  ok('keeps comment markers inside strings', 's = "# // /* */";', '{"s":"# // /* */"}'),
  bad('rejects an unterminated string where a value is needed', 's = "abc\n\n', 3),
  ok('drops an unterminated string after a complete setting, as flex does', 'a = 1;\n"abc\n', '{"a":1}'),
  ok('ends an unterminated block comment at end of file', 'a = 1;\n/* abc\n', '{"a":1}'),
  bad('rejects mixed strings and ints in an array', 'a = ["x", 1];', 1),
  // Comments
  ok('skips all three comment styles', '# a\n// b\n/* c\n d */ x = 1; # e\n', '{"x":1}'),
  ok('accepts a final comment with no newline', 'x = 1;\n# end', '{"x":1}', '1.5: syntax error'),
  ok('counts lines inside block comments', '/*\n\n*/ x = 1;', '{"x":1}'),
  bad('reports a line after a block comment', '/*\n\n*/ x = ;', 3),
];
