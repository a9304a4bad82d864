/** Coda text is data, in every report form: it never becomes markup. */
import { describe, expect, it } from 'vitest';
import { escapeHtml } from '../../src/report/html-elements.ts';
import { markdownText } from '../../src/report/markdown.ts';
import { safeLink } from '../../src/report/lists.ts';
import { showValue } from '../../src/report/words.ts';
import { visible } from '../../src/shared/visible.ts';

describe('report escaping', () => {
  it('shows HTML special characters as text', () => {
    expect(escapeHtml(`<script>alert("x")</script> & 'quoted'`)).toBe(
      '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quoted&#39;',
    );
  });

  it('keeps Markdown markup, HTML and table breaks out of Coda text, on one line', () => {
    expect(markdownText('<b>**Bold**</b> | [link](x)\nnext `code` _under_ #1')).toBe(
      '\\<b\\>\\*\\*Bold\\*\\*\\</b\\> \\| \\[link\\](x) next \\`code\\` \\_under\\_ \\#1',
    );
  });

  it('links only to https addresses', () => {
    expect(safeLink('https://coda.io/d/_dabc/#Tasks_tuX/_rui-1')).toBe(
      'https://coda.io/d/_dabc/#Tasks_tuX/_rui-1',
    );
    expect(safeLink('javascript:alert(1)')).toBeNull();
    expect(safeLink('https://coda.io/"><script>')).toBeNull();
  });

  it('shows control characters as visible symbols in every form, never raw', () => {
    expect(visible('a\u0000b\u0007c\u001bd\u007f')).toBe('a␀b␇c␛d␡');
    expect(visible('line\nnext\ttab', { keepLayout: true })).toBe('line\nnext\ttab');
    expect(visible('a\u0000b\u007f', { names: true })).toBe('a[NUL]b[DEL]');
    // Pages read in a browser name them: many fonts have no control pictures (a missing-glyph box).
    expect(markdownText('Invoice\u0000run')).toBe('Invoice\\[NUL\\]run');
    expect(escapeHtml('Invoice\u0000run\u0007')).toBe('Invoice[NUL]run[BEL]');
    expect(escapeHtml(showValue('Invoice\u0000run'))).toBe('&quot;Invoice[NUL]run&quot;');
    expect(showValue('Invoice\u0000run')).toBe('"Invoice␀run"');
    expect(showValue({ note: 'a\u0000b' })).toBe('{"note":"a␀b"}');
  });
});
