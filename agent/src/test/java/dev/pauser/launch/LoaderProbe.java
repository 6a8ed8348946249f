package dev.pauser.launch;

/** A class for {@link PauserClassLoaderTest} to store in a jar the way the build stores the agent's classes. */
public final class LoaderProbe {
    @Override
    public String toString() {
        return "probe";
    }
}
