package dev.pauser.agent;

import dev.pauser.agent.cluster.JobWorker;
import dev.pauser.agent.config.Config;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Joins the job of several JVMs the {@code cluster} option names, on the thread that loads the agent. A class of its own
 * so that a JVM training alone loads nothing of the job's code, not even to verify {@link AgentWiring}.
 */
final class JobStart {
    /** The job refused this worker or could not be reached; the message is one line with the fix. */
    static final class Refused extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Refused(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private JobStart() {
    }

    /**
     * @param joined receives the worker once it has joined
     * @return the {@code resume} setting this worker runs with: the job's committed step
     */
    static String join(Config config, Path dir, boolean lateAttach, AtomicReference<JobWorker> joined) {
        try {
            JobWorker worker = JobWorker.join(new JobWorker.Settings(config.cluster(), config.rank(),
                    config.worldSize(), config.jobTimeout(), dir, config.graceSeconds(), config.zkAuthFile()));
            joined.set(worker);
            return worker.resumeOption(lateAttach ? "never" : config.resume());
        } catch (JobWorker.Refused e) {
            throw new Refused(e.getMessage(), e);
        }
    }
}
