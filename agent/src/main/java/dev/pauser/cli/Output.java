package dev.pauser.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.io.SerializedString;
import dev.pauser.agent.store.Visible;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The {@code --json} option, mixed into every command, and the one place that writes results: either the human text or
 * one JSON value on one line. Errors never come here; they go to standard error as one line (see {@link PauserCli}).
 */
final class Output {
    /**
     * Jackson escapes the C0 controls itself; these escapes add DEL, the C1 controls (U+009B starts an escape sequence
     * on some terminals) and the line separators and bidirectional overrides {@link Visible} escapes, so that a key from
     * a checkpoint can't drive the terminal of someone reading the JSON either.
     */
    private static final JsonFactory JSON = new JsonFactory().setCharacterEscapes(new TerminalSafe());

    private static final class TerminalSafe extends CharacterEscapes {
        private static final long serialVersionUID = 1L;
        private final int[] ascii = CharacterEscapes.standardAsciiEscapesForJSON();

        TerminalSafe() {
            ascii[0x7f] = CharacterEscapes.ESCAPE_STANDARD;
        }

        @Override
        public int[] getEscapeCodesForAscii() {
            return ascii;
        }

        @Override
        public SerializableString getEscapeSequence(int ch) {
            return Visible.needsEscape(ch) ? new SerializedString(String.format("\\u%04x", ch)) : null;
        }
    }

    @Option(names = "--json", description = "Print the result as one line of JSON on standard output, for scripts.")
    boolean json;

    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    /** Prints {@code value} as JSON with {@code --json}, else {@code text}. */
    void print(Object value, String text) {
        PrintWriter out = command.commandLine().getOut();
        if (json) {
            StringWriter line = new StringWriter();
            try (JsonGenerator g = JSON.createGenerator(line)) {
                Json.write(g, value);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write JSON: " + e.getMessage(), e);
            }
            out.println(line);
        } else {
            out.println(text);
        }
        out.flush();
    }

    /** An ordered map for JSON objects: keys in the order given, so output is stable for people reading it too. */
    static Map<String, Object> object(Object... keysAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }
}
