// The chat view: the same commands as Slack or Mattermost, typed here. Its
// log and input live in index.html (#chat) so they survive navigation; the
// replies stream (api/events) stays open while signed in.
export default {
  id: 'chat',
  title: 'Chat',
  nav: true,
  match: /^chat$/,
  // The chat section is shown instead of #view; nothing to build.
  render() {},
  keepsOwnSection: 'chat',
};
