/// <reference lib="dom" />
// What a browser test can check of a page's accessibility without a
// library: every form control has a label, every button and link has a
// name, and every visible piece of text meets WCAG 2.1 AA contrast against
// the background it is drawn on (4.5:1, or 3:1 for large text). Run in the
// page by playwright; returns one line per problem.
import type { Page } from 'playwright-core';

export async function accessibilityProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const visible = (el: Element) => {
      const r = (el as HTMLElement).getBoundingClientRect();
      const s = getComputedStyle(el);
      return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
    };
    const describe = (el: Element) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className && typeof el.className === 'string' ? `.${el.className.trim().split(/\s+/).join('.')}` : ''} "${(el.textContent ?? '').trim().slice(0, 40)}"`;
    const name = (el: Element) => (el.getAttribute('aria-label') ?? '').trim() || (el.getAttribute('aria-labelledby') ? (document.getElementById(el.getAttribute('aria-labelledby')!)?.textContent ?? '').trim() : '') || (el.textContent ?? '').trim() || (el.getAttribute('title') ?? '').trim();

    for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
      if (!visible(el)) continue;
      const labelled = (el as HTMLInputElement).labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
      if (!labelled) problems.push(`no label: ${describe(el)}`);
    }
    for (const el of document.querySelectorAll('button, a[href]')) {
      if (visible(el) && !name(el)) problems.push(`no accessible name: ${describe(el)}`);
    }

    const rgba = (c: string): [number, number, number, number] => {
      const m = /rgba?\(([^)]+)\)/.exec(c);
      if (!m) return [0, 0, 0, 1];
      const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
      return [p[0], p[1], p[2], p[3] ?? 1];
    };
    const lum = ([r, g, b]: number[]) => {
      const f = (v: number) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const over = (top: number[], under: number[]) => top.slice(0, 3).map((v, i) => v * top[3] + under[i] * (1 - top[3]));
    /** The colour behind an element: its own and its ancestors' backgrounds composed over the page's. */
    const background = (el: Element | null): number[] => {
      const layers: number[][] = [];
      for (let e = el; e; e = e.parentElement) {
        const c = rgba(getComputedStyle(e).backgroundColor);
        if (c[3] > 0) layers.push(c);
        if (c[3] >= 1) break;
      }
      // The canvas: Chromium's dark scheme paints #121212 under a page that allows it (color-scheme: light dark).
      let base = matchMedia('(prefers-color-scheme: dark)').matches ? [18, 18, 18] : [255, 255, 255];
      for (const l of layers.reverse()) base = over(l, base);
      return base;
    };
    const seen = new Set<Element>();
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || seen.has(el) || !(n.textContent ?? '').trim() || el.closest('svg') || !visible(el)) continue;
      seen.add(el);
      const s = getComputedStyle(el);
      const fg = over(rgba(s.color), background(el));
      const bg = background(el);
      const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
      const ratio = (a + 0.05) / (b + 0.05);
      const size = parseFloat(s.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(s.fontWeight) >= 700);
      const need = large ? 3 : 4.5;
      if (ratio < need) problems.push(`contrast ${ratio.toFixed(2)} < ${need}: ${describe(el)}`);
    }
    return problems;
  });
}

/** The elements Tab reaches, in order, from `from` (the page's title: its top) — up to `max`. */
export async function tabOrder(page: Page, max = 30, from = 'header h1'): Promise<string[]> {
  // A click on something that takes no focus moves the browser's sequential-focus starting point there.
  await page.click(from);
  const out: string[] = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    out.push(await page.evaluate(() => {
      const el = document.activeElement;
      return el ? `${el.tagName.toLowerCase()} ${(el.textContent ?? '').trim().slice(0, 30) || el.getAttribute('aria-label') || el.id}` : '';
    }));
  }
  return out;
}
