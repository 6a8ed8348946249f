package dev.pauser.agent;

import dev.pauser.agent.jmx.PauserControl;
import dev.pauser.agent.jmx.PauserMBean;
import dev.pauser.boot.Gate;
import java.io.File;
import java.lang.instrument.Instrumentation;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import javax.management.MBeanServer;

/**
 * Sets the agent up, once per JVM, after {@link PauserAgent} has put the jar on the bootstrap path. Loaded by the
 * bootstrap loader.
 */
public final class AgentStarter {
    /** System property announcing the agent to the {@code pauser} command line (read through the Attach API). */
    public static final String VERSION_PROPERTY = "pauser.agent.version";
    public static final String DIR_PROPERTY = "pauser.agent.dir";
    /** Why the last late load of the agent did not start (bad options), for the attaching tool. */
    public static final String ERROR_PROPERTY = "pauser.agent.error";

    private static boolean started;

    private AgentStarter() {
    }

    public static synchronized void start(String args, Instrumentation inst, boolean lateAttach, String agentJar) {
        if (started) {
            Log.warn("the agent is already loaded in this JVM; ignoring the second load (options '" + args + "')");
            return;
        }
        Config config;
        try {
            config = Config.load(args, System.getProperties(), System.getenv());
        } catch (ConfigException e) {
            if (lateAttach) {
                // The running app must not die of a typo, and a throw here only gives the attaching tool "agent failed
                // to initialize" plus a stack trace in the app's output: leave one line and the reason for tools.
                System.setProperty(ERROR_PROPERTY, e.getMessage());
                System.err.println(e.getMessage());
                return;
            }
            System.err.println(e.getMessage());
            System.err.flush();
            System.exit(2);
            return;
        }
        Log.setThreshold(config.log());
        try {
            Instrumenter.install(inst, new File(agentJar));
        } catch (Exception e) {
            throw new IllegalStateException("pauser: cannot install the instrumentation: " + e, e);
        }

        Path dir = config.dir().toAbsolutePath().normalize();
        Path pauseFile = dir.resolve("PAUSE");
        Housekeeping housekeeping = new Housekeeping(pauseFile);
        Stopper stopper = new Stopper(config.graceSeconds());

        Gate.addListener((from, to, step, millis) ->
                Log.info("state " + from + " -> " + to + " at step " + step
                        + (from == dev.pauser.boot.GateState.PAUSED ? " (paused " + millis + " ms)" : "")));
        addJfrEvents();
        String version = version();
        registerMBean(new PauserControl(dir.toString(), pauseFile.toString(), config.onSignal().name(),
                config.graceSeconds(), version, housekeeping::stepsPerSecond,
                () -> stopper.stop("stop requested over JMX", 0)));
        if (config.onSignal() == Config.OnSignal.STOP) {
            SignalStop.install(stopper);
        }
        if (config.pauseAtStep() > 0) {
            Gate.pauseAtStep(config.pauseAtStep());
        }
        Gate.start();
        housekeeping.start();
        System.setProperty(VERSION_PROPERTY, version);
        System.setProperty(DIR_PROPERTY, dir.toString());
        started = true;
        Log.info("agent " + version + " loaded" + (lateAttach ? " late (attach)" : "") + "; dir " + dir
                + (config.given().isEmpty() ? "" : "; options " + config.given()));
    }

    private static void addJfrEvents() {
        try {
            Gate.addListener(new PauseEvents());
        } catch (LinkageError e) {
            Log.debug("JFR is not available in this JVM; no Pauser events: " + e);
        }
    }

    private static void registerMBean(PauserControl control) {
        try {
            PauserMBean mbean = new PauserMBean(control, PauserMBean.newEmitter());
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            server.registerMBean(mbean, mbean.objectName());
            Gate.addListener(mbean);
        } catch (Exception e) {
            Log.error("cannot register the JMX MBean dev.pauser:type=Pauser: " + e);
        }
    }

    static String version() {
        Package p = AgentStarter.class.getPackage();
        String v = p == null ? null : p.getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
