package dev.pauser.agent.control;

import dev.pauser.gate.GateListener;
import dev.pauser.gate.GateState;
import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Timespan;

/** JFR events for pauses, visible in JDK Mission Control under "Pauser". */
public final class PauseEvents implements GateListener {

    @Name("dev.pauser.Pause")
    @Label("Pause")
    @Category("Pauser")
    @Description("The run was paused: the event's duration is the time from the pause taking effect to the resume.")
    static final class PauseEvent extends Event {
        @Label("Step")
        @Description("The Step counter while paused")
        long step;
    }

    @Name("dev.pauser.Resume")
    @Label("Resume")
    @Category("Pauser")
    @Description("The run resumed after a pause.")
    static final class ResumeEvent extends Event {
        @Label("Step")
        @Description("The Step counter at the resume")
        long step;

        @Label("Time Paused")
        @Timespan(Timespan.MILLISECONDS)
        long pausedMillis;
    }

    private PauseEvent open;

    @Override
    public void stateChanged(GateState from, GateState to, long step, long millisInPrevious) {
        if (to == GateState.PAUSED) {
            open = new PauseEvent();
            open.step = step;
            open.begin();
        } else if (from == GateState.PAUSED && open != null) {
            open.end();
            open.commit();
            open = null;
            ResumeEvent resume = new ResumeEvent();
            resume.step = step;
            resume.pausedMillis = millisInPrevious;
            resume.commit();
        }
    }
}
