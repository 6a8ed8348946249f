package dev.pauser.agent.control;

import dev.pauser.gate.Gate;

/**
 * Where a pause or resume asked of this JVM goes: JMX ({@code pause}, {@code resume}, {@code pauseAndWait}), the
 * command line (through JMX) and the pause file all come here. Alone, straight to the {@link Gate}; as one worker of a
 * job of several JVMs, to the job, which turns it into a pause of every worker at one agreed step. Any thread; returns
 * at once.
 */
public final class PauseRequests {
    /** Takes the requests instead of the gate. */
    public interface Router {
        /** @param source who asked, for the log ("JMX", "the pause file") */
        void pause(String source);

        void resume(String source);
    }

    private static final Router GATE = new Router() {
        @Override
        public void pause(String source) {
            Gate.pause();
        }

        @Override
        public void resume(String source) {
            Gate.resume();
        }
    };

    private static volatile Router router = GATE;

    private PauseRequests() {
    }

    /** Sends every later request to {@code r} (the job this JVM is a worker of). */
    public static void routeTo(Router r) {
        router = r;
    }

    public static void pause(String source) {
        router.pause(source);
    }

    public static void resume(String source) {
        router.resume(source);
    }
}
