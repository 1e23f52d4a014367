// The server's maximum lengths of free text (README, "Input limits"), so a field stops
// taking characters where the server would refuse them. The server counts characters
// (code points) and the browser's maxLength UTF-16 units, so an emoji-heavy value is cut a
// little early here, never let through too long; the server checks either way.
export const MAX_LENGTH = {
  name: 200,
  email: 254,
  site: 255,
  password: 256,
  setting: 100,
} as const;
