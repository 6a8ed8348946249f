package dev.pauser.agent;

import sun.misc.Signal;

/**
 * SIGTERM and SIGINT start the graceful stop ({@code onSignal=stop}); a second one exits at once. SIGQUIT belongs to
 * the JVM (thread dumps) and SIGUSR2 to HotSpot (thread suspension, JFR sampling): never touched.
 */
final class SignalStop {
    private static final String[] SIGNALS = {"TERM", "INT"};

    private SignalStop() {
    }

    static void install(Stopper stopper) {
        for (String name : SIGNALS) {
            try {
                Signal.handle(new Signal(name), s -> onSignal(stopper, s));
            } catch (IllegalArgumentException e) {
                // e.g. the JVM runs with -Xrs, or another tool owns the signal
                Log.warn("cannot handle SIG" + name + " (" + e.getMessage() + "); it will end the JVM without a stop");
            }
        }
    }

    private static void onSignal(Stopper stopper, Signal s) {
        int status = 128 + s.getNumber();
        if (stopper.started()) {
            Log.stderr("second SIG" + s.getName() + ": exiting now");
            Runtime.getRuntime().halt(status);
        }
        stopper.stop("SIG" + s.getName(), status);
    }
}
