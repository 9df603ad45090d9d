import { describe, expect, it } from 'vitest';
import { addressesIn, fieldValues, hasField, splitMessage, withoutField } from '../../../src/queue/message-headers.js';

describe('message headers', () => {
  it('message headers split at the empty line and unfold continuation lines', () => {
    const { headers, body } = splitMessage(['To: a@x,', ' b@x', 'Subject: hi', '', 'body', '']);
    expect(headers.map((h) => [h.name, h.value])).toEqual([
      ['To', 'a@x, b@x'],
      ['Subject', 'hi'],
    ]);
    expect(headers[0]?.lines).toEqual(['To: a@x,', ' b@x']);
    expect(body).toEqual(['body', '']);
  });

  it('message headers treat a first line that is not a field as the start of the body', () => {
    expect(splitMessage(['just text', 'more'])).toEqual({ headers: [], body: ['just text', 'more'] });
  });

  it('message headers find and drop fields in any case', () => {
    const { headers } = splitMessage(['BCC: x@y', 'cc: z@y', 'Cc: w@y']);
    expect(hasField(headers, 'Bcc')).toBe(true);
    expect(fieldValues(headers, ['CC'])).toEqual(['z@y', 'w@y']);
    expect(withoutField(headers, 'bcc').map((h) => h.name)).toEqual(['cc', 'Cc']);
  });

  it('message headers read address lists with names, comments, quotes and groups', () => {
    expect(addressesIn('"Doe, John" <john@x>, jane@x (Jane), team: a@x, b@x;, <c@x>')).toEqual(['john@x', 'jane@x', 'a@x', 'b@x', 'c@x']);
    expect(addressesIn('"odd person"@x')).toEqual(['"odd person"@x']);
    expect(addressesIn('undisclosed-recipients:;')).toEqual([]);
  });
});
