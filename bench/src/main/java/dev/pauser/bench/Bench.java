package dev.pauser.bench;

import java.util.ArrayList;
import java.util.List;

/** Option parsing the harnesses share. */
final class Bench {
    private Bench() {
    }

    /** {@code "100,1024"} as sizes in MiB; one line naming the option when it is not that. */
    static List<Integer> sizes(String text) {
        List<Integer> out = new ArrayList<>();
        for (String s : text.split(",")) {
            try {
                int mb = Integer.parseInt(s.strip());
                if (mb < 1 || mb > 1900) {
                    throw new NumberFormatException();
                }
                out.add(mb);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--mb " + text + ": give sizes in MiB from 1 to 1900, e.g. 100,1024");
            }
        }
        return out;
    }
}
