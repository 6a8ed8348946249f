package dev.pauser.agent.state;

import java.util.List;

/**
 * A {@code @TrainState} problem the run can't go on with: fields that can't be captured or restored. The message holds
 * every problem found, one per line, each naming the class and field.
 */
public class StateException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    public StateException(String headline, List<String> problems) {
        super(headline + (problems.isEmpty() ? "" : ":\n  " + String.join("\n  ", problems)));
        this.problems = List.copyOf(problems);
    }

    public StateException(String message, Throwable cause) {
        super(message, cause);
        this.problems = List.of(message);
    }

    /** One line per problem, without the headline. */
    public List<String> problems() {
        return problems;
    }
}
