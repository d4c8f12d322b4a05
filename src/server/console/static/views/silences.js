// Silences: the list (pending, active, expired for five days), expiring one,
// and a form for a new one (matchers one per line, as `kubemend silence add
// --matcher` takes them). A detection's page proposes matchers from its labels.
import { field, select, filters, statusLine, debounce } from '../lib/forms.js';

const STATES = [['all', 'All'], ['active', 'Active'], ['pending', 'Pending'], ['expired', 'Expired']];

export default {
  id: 'silences',
  title: 'Silences',
  nav: true,
  match: /^silences$/,
  async render(root, ctx) {
    const { h, badge, when, table } = ctx;
    const state = ctx.query.get('state') || 'all';
    const mark = ctx.query.get('id');
    const status = statusLine();
    const holder = h('div');
    const draw = async () => {
      const { items } = await ctx.api(`silences?state=${encodeURIComponent(state)}`);
      holder.replaceChildren(table('Silences', ['State', 'Matchers', 'Starts', 'Ends', 'By', 'Why', ''], items.map((s) => [
        badge(s.state), h('code', {}, s.text.join(', ')), when(s.startsAt), when(s.endsAt), s.createdBy, s.comment,
        s.state === 'expired' ? (s.expiredBy ? `expired by ${s.expiredBy}` : '') : h('button', { type: 'button', class: 'danger', 'aria-label': `Expire silence ${s.id.slice(0, 8)}`, onclick: () => expire(s) }, 'Expire'),
      ])));
      // The silence just created (or linked to) is marked, so a reader sees where it landed.
      items.forEach((s, i) => { if (s.id === mark) holder.querySelectorAll('tbody tr')[i]?.classList.add('marked'); });
    };
    const expire = async (s) => {
      try {
        await ctx.api(`silences/${encodeURIComponent(s.id)}/expire`, {});
        status.ok(`Silence ${s.id.slice(0, 8)} expired.`);
        await draw();
      } catch (err) {
        if (err.message !== 'signed out') status.fail(err);
      }
    };
    const matchers = h('textarea', { name: 'matchers', rows: 3, required: true, placeholder: 'rule=crashloop-backoff\nnamespace=shop' });
    const duration = h('input', { name: 'duration', value: '2h', required: true, size: 6 });
    const comment = h('input', { name: 'comment', required: true, size: 40, maxlength: 1000, placeholder: 'why, e.g. a ticket and a reason' });
    const form = h('form', { class: 'silence-form', 'aria-labelledby': 'new-silence' }, h('h3', { id: 'new-silence' }, 'New silence'),
      field('Matchers, one per line (name=value, name!=value, name=~regex, name!~regex)', matchers), field('For how long', duration), field('Why', comment),
      h('button', { type: 'submit', class: 'primary' }, 'Create silence'));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      try {
        const r = await ctx.api('silences', { matchers: matchers.value.split('\n').map((l) => l.trim()).filter(Boolean), duration: duration.value.trim(), comment: comment.value.trim() });
        status.ok(`Silence ${r.silence.id.slice(0, 8)} created.`);
        form.reset();
        await draw();
      } catch (err) {
        if (err.message !== 'signed out') status.fail(err);
      }
    });
    root.append(h('h2', {}, 'Silences'), filters(ctx, 'silences', [field('State', select('state', STATES, state))]), status.el, holder, form);
    await draw();
    const again = debounce(() => draw().catch(() => {}));
    ctx.live((e) => { if (e.action.startsWith('silence.')) again(); });
  },
};
