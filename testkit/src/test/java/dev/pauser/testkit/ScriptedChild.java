package dev.pauser.testkit;

/**
 * The program the kit's own tests run in child JVMs. Each argument is a step, done in order: {@code out:TEXT} prints
 * TEXT on standard output, {@code err:TEXT} on standard error, {@code env:NAME} prints {@code NAME=value} (or
 * {@code NAME unset}), {@code pid} prints {@code pid=N}, {@code cwd} prints {@code cwd=DIRECTORY}, {@code wait} blocks
 * until the process is killed, {@code exit:N} exits with status N.
 */
public final class ScriptedChild {
    private ScriptedChild() {
    }

    public static void main(String[] args) throws InterruptedException {
        for (String step : args) {
            String value = step.substring(step.indexOf(':') + 1);
            if (step.startsWith("out:")) {
                System.out.println(value);
            } else if (step.startsWith("err:")) {
                System.err.println(value);
            } else if (step.startsWith("env:")) {
                String v = System.getenv(value);
                System.out.println(v == null ? value + " unset" : value + "=" + v);
            } else if (step.equals("pid")) {
                System.out.println("pid=" + ProcessHandle.current().pid());
            } else if (step.equals("cwd")) {
                System.out.println("cwd=" + System.getProperty("user.dir"));
            } else if (step.equals("wait")) {
                System.out.flush();
                Thread.sleep(Long.MAX_VALUE);
            } else if (step.startsWith("exit:")) {
                System.out.flush();
                System.exit(Integer.parseInt(value));
            } else {
                throw new IllegalArgumentException("unknown step " + step + "; see the javadoc of ScriptedChild");
            }
        }
    }
}
