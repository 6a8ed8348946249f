package dev.pauser.agent.control;

import dev.pauser.agent.log.Log;
import sun.misc.Signal;

/**
 * SIGTERM and SIGINT start the graceful stop ({@code onSignal=stop}); a second one exits at once. SIGQUIT belongs to
 * the JVM (thread dumps) and SIGUSR2 to HotSpot (thread suspension, JFR sampling): never touched.
 */
public final class SignalStop {
    private static final String[] SIGNALS = {"TERM", "INT"};

    private SignalStop() {
    }

    public static void install(Stopper stopper) {
        if (ModuleLayer.boot().findModule("jdk.unsupported").isEmpty()) {
            // A JVM started with -m for a module that doesn't need it (a JDK tool, a modular app) lacks sun.misc.Signal
            Log.warn("cannot handle SIGTERM and SIGINT (the module jdk.unsupported is not in this JVM; add "
                    + "--add-modules jdk.unsupported); they will end the JVM without a stop");
            return;
        }
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
        stopper.request("SIG" + s.getName(), status);
    }
}
