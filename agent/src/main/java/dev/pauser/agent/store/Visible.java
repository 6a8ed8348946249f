package dev.pauser.agent.store;

/**
 * Text from a checkpoint made safe to print on a terminal. A manifest is untrusted input: a key, host or info value
 * holding a newline could forge an "OK:" line, an escape sequence could retitle or clear the terminal. Control
 * characters (C0, DEL, C1), the line and paragraph separators and the bidirectional overrides are shown as visible
 * escapes ({@code \n}, {@code \r}, {@code \t}, the others as a backslash, {@code u} and four hex digits); everything
 * else is unchanged.
 */
public final class Visible {
    private Visible() {
    }

    /** {@code s} with every character that could move the cursor or drive the terminal escaped; null as "null". */
    public static String of(String s) {
        if (s == null) {
            return "null";
        }
        int i = 0;
        while (i < s.length() && !needsEscape(s.charAt(i))) {
            i++;
        }
        if (i == s.length()) {
            return s;
        }
        StringBuilder sb = new StringBuilder(s.length() + 16).append(s, 0, i);
        for (; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!needsEscape(c)) {
                sb.append(c);
            } else if (c == '\n') {
                sb.append("\\n");
            } else if (c == '\r') {
                sb.append("\\r");
            } else if (c == '\t') {
                sb.append("\\t");
            } else {
                sb.append(String.format("\\u%04x", (int) c));
            }
        }
        return sb.toString();
    }

    /** True for the characters {@link #of} escapes. */
    public static boolean needsEscape(int c) {
        return c < 0x20 || c >= 0x7f && c <= 0x9f || c == 0x2028 || c == 0x2029 || c >= 0x202a && c <= 0x202e
                || c >= 0x2066 && c <= 0x2069 || c == 0x200e || c == 0x200f || c == 0x061c;
    }
}
