"""Playground: a tiny GAN learning a 2-D point cloud, live, in the spirit of GAN Lab.

Each browser session has its own playground (`ganlib.explore.playground.PlaygroundRunner` in
st.session_state): while it plays it is a task of the process's one task runner (so it waits
while a training job or an experiment holds the slot), training on the CPU while one fragment
redraws the plane a few times a second and another the loss and coverage traces once a second;
both timers are off while paused. Settings that a running GAN can take
(learning rates, stabilisers) apply at once; the others restart the playground.
"""
import streamlit as st

from ganlib.core.errors import ConfigError
from ganlib.engine.tasks import TaskBusy
from ganlib.explore.playground import TOYS, PlaygroundConfig, PlaygroundRunner
from ganlib.losses import LOSSES
from ganlib.ui import playground_view as view
from ganlib.ui import resources

REFRESH_S = 0.4
TRACE_REFRESH_S = 1.0
RUNNER = "_pg_runner"  # session keys owned by no widget
REFUSED = "_pg_refused"  # why Play could not start (the task runner's slot is taken)
LR_OPTIONS = [1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2]
GP_OPTIONS = [0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
R1_OPTIONS = [0.0, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0]
CLIP_OPTIONS = [0.01, 0.03, 0.1, 0.3]
D0 = PlaygroundConfig()

st.title("Playground")
st.markdown("A small GAN learns a cloud of points in the plane while you watch: **green** dots are the real "
            "data, **purple** dots are what the generator makes, the shading is the discriminator's "
            "opinion of every spot, and the arrows show where the generator's loss is pushing its points. "
            "Press **Play**, then change the settings and see what happens.")

if RUNNER not in st.session_state:
    st.session_state[RUNNER] = PlaygroundRunner(D0, tasks=resources.task_runner())
runner: PlaygroundRunner = st.session_state[RUNNER]


def play() -> None:
    """Play, or say why not: a training job or an experiment holds the task runner's slot."""
    try:
        runner.play()
        st.session_state.pop(REFUSED, None)
    except TaskBusy as e:
        st.session_state[REFUSED] = str(e)


def loss_changed() -> None:
    """Offer the loss's own n_critic (5 for the Wasserstein losses)."""
    st.session_state["pg_n_critic"] = LOSSES.get(st.session_state["pg_loss"]).suggested_n_critic


left, right = st.columns([1, 2.6], gap="medium")
with left:
    st.subheader("Setup")
    dist = st.selectbox("Data", TOYS.names(), key="pg_distribution", index=TOYS.names().index(D0.distribution),
                        help="\n".join(f"- **{n}**: {TOYS.get(n).description}" for n in TOYS.names()))
    st.caption(TOYS.get(dist).description)  # in full: in the box it was cut ("ring: 8 Gaussians in a ...")
    loss = st.selectbox("Loss", LOSSES.names(), key="pg_loss", index=LOSSES.names().index(D0.loss),
                        on_change=loss_changed, format_func=lambda n: n,
                        help="\n".join(f"- **{n}**: {LOSSES.get(n).description}" for n in LOSSES.names()))
    noise_dim = st.segmented_control("Noise dimensions", [2, 8], default=D0.noise_dim, key="pg_noise_dim",
                                     required=True,
                                     help="G's input z. With 2 it warps the noise plane onto the data, as in "
                                          "GAN Lab; 8 gives it more room.") or D0.noise_dim
    lr_g = st.select_slider("G learning rate", LR_OPTIONS, value=D0.lr_g, key="pg_lr_g", format_func=lambda v: f"{v:g}")
    lr_d = st.select_slider("D learning rate", LR_OPTIONS, value=D0.lr_d, key="pg_lr_d", format_func=lambda v: f"{v:g}")
    spec = LOSSES.get(loss)
    with st.expander("Stabilisers", expanded=True):
        n_critic = st.slider("D steps per G step (n_critic)", 1, 10, D0.n_critic, key="pg_n_critic",
                             help="Train D this many times before each G update; the Wasserstein losses want 5.")
        gp = st.checkbox("Gradient penalty (WGAN-GP)", value=D0.gradient_penalty or spec.needs_gp,
                         key=f"pg_gp_{spec.needs_gp}", disabled=spec.needs_gp,
                         help="Keeps D's slope near 1 between real and generated points. Always on for wgan_gp.")
        gp_weight = D0.gp_weight
        if gp or spec.needs_gp:
            gp_weight = st.select_slider("Penalty weight λ", GP_OPTIONS, value=D0.gp_weight, key="pg_gp_weight")
        r1 = st.select_slider("R1 penalty γ", R1_OPTIONS, value=D0.r1_gamma, key="pg_r1",
                              help="Penalises D's slope at the real points, so D cannot build steep walls there.")
        clip = D0.clip_value
        if spec.clip:
            clip = st.select_slider("Weight clipping c (wgan)", CLIP_OPTIONS, value=D0.clip_value, key="pg_clip",
                                    help="D's weights are kept in [-c, c] after each D update.")
        noise = st.slider("Instance noise σ", 0.0, 0.5, D0.instance_noise, 0.01, key="pg_instance_noise",
                          help="Blur every point D sees with Gaussian noise of this size: real and generated "
                               "clouds overlap, so D's verdict stays smooth.")
    with st.expander("Networks"):
        hidden = st.select_slider("Neurons per hidden layer", [8, 16, 32, 64, 128], value=D0.hidden, key="pg_hidden")
        layers = st.slider("Hidden layers (G and D each)", 1, 4, D0.layers, key="pg_layers")
        batch = st.select_slider("Batch size", [32, 64, 128, 256, 512], value=D0.batch_size, key="pg_batch")
        seed = st.number_input("Seed", 0, 10_000, D0.seed, key="pg_seed", help="The starting weights and noise.")
    try:
        cfg = PlaygroundConfig(distribution=dist, loss=loss, noise_dim=int(noise_dim), hidden=int(hidden),
                               layers=int(layers), batch_size=int(batch), lr_g=lr_g, lr_d=lr_d,
                               n_critic=int(n_critic), gradient_penalty=bool(gp), gp_weight=gp_weight,
                               r1_gamma=r1, clip_value=clip, instance_noise=noise, seed=int(seed))
    except ConfigError as e:
        st.error(f"**{e.field}**: {str(e).split(': ', 1)[-1]}", icon=":material/error:")
        st.stop()
    if runner.configure(cfg):
        st.toast("New data, loss or network: the playground started over.", icon=":material/restart_alt:")

with right:
    playing = runner.playing
    b1, b2, b3, b4, _ = st.columns([1, 1, 1, 1, 1.2])
    b1.button("Play", key="pg_play", icon=":material/play_arrow:", type="primary", on_click=play,
              disabled=playing or runner.playground.diverged, width="stretch")
    b2.button("Pause", key="pg_pause", icon=":material/pause:", on_click=runner.pause, disabled=not playing,
              width="stretch")
    b3.button("Step", key="pg_step", icon=":material/skip_next:", on_click=runner.step,
              disabled=runner.playground.diverged, width="stretch",
              help="Pause and train one tick: as many steps as the speed says.")
    b4.button("Reset", key="pg_reset", icon=":material/restart_alt:", on_click=runner.reset, width="stretch",
              help="Start over: fresh weights from the seed, empty traces.")
    if st.session_state.get(REFUSED) and not playing:
        st.info(f"Play waits: {st.session_state[REFUSED]}.", icon=":material/hourglass_top:")
    sp, o1, o2 = st.columns([2.4, 1, 1], vertical_alignment="bottom")
    runner.speed = sp.slider("Speed (steps per tick, 20 ticks a second)", 1, 50, 10, key="pg_speed",
                             help="One step is n_critic D updates and one G update.")
    show_heat = o1.toggle("D's heatmap", value=True, key="pg_show_heat")
    show_arrows = o2.toggle("G's gradients", value=True, key="pg_show_arrows")

    def live_field() -> None:
        snap = runner.snapshot()
        if playing and not snap["playing"]:  # the thread paused itself: redraw without the timers
            st.rerun()
        if snap["error"]:
            st.error(f"Paused: {snap['error']}", icon=":material/error:")
        m1, m2, m3, m4 = st.columns(4)
        m1.metric("Step", f"{snap['step']:,}")
        if snap["modes"] is not None:
            m2.metric("Modes covered", f"{snap['modes']} / {snap['n_modes']}",
                      help="A mode counts when at least 1 % of the generated points lie within 3 std of it.")
        m3.metric("Near the data", f"{100 * snap['quality']:.0f} %",
                  help="Generated points within 3 std of a mode (or of the real data).")
        m4.metric("Speed", f"{snap['steps_per_s']:.0f} steps/s" if snap["playing"] else "paused")
        view.live_chart(view.field_figure(snap, show_heatmap=show_heat, show_arrows=show_arrows), key="pg_field")
        st.caption(f"Heatmap: {'D(x), the probability that x is real' if snap['d_is_prob'] else 'the raw score D(x)'}"
                   f" · arrows: −∂L_G/∂x at {len(snap['arrows'])} generated points, drawn relative to the"
                   " longest"
                   f" (|∂L_G/∂x| = {view.fmt_grad(view.max_arrow(snap))})"
                   + (" · dotted circles: the modes, red when missed." if snap["centres"] is not None else "."))

    def live_traces() -> None:
        snap = runner.traces()
        t1, t2 = st.columns(2)
        with t1:
            view.live_chart(view.loss_trace_figure(snap), key="pg_loss_trace")
        with t2:
            view.live_chart(view.coverage_trace_figure(snap), key="pg_cov_trace")

    # The plane redraws a few times a second while playing, the slower traces once a second.
    st.fragment(live_field, run_every=REFRESH_S if playing else None)()
    st.fragment(live_traces, run_every=TRACE_REFRESH_S if playing else None)()

st.divider()
st.subheader("What am I looking at?")
c1, c2 = st.columns(2)
c1.markdown(
    "**The two players.** The *generator* G turns random noise z into points; the *discriminator* D "
    "gives every point of the plane a score: high (green) where it thinks data is real, low (purple) "
    "where it thinks points are generated. Each training step, D repaints the background to separate "
    "green dots from purple ones, then G moves its points in the direction the arrows show: uphill on "
    "D's map, toward where D says *real*.\n\n"
    "**The arrows** are the gradient of G's loss with respect to each generated point, "
    "−∂L_G/∂x. They are all G ever learns from: G never sees the real data, only D's slope. "
    "Where D is flat the arrows shrink and G stops learning: pick *minimax*, set D's learning rate "
    "well above G's, and compare the arrow size in the caption under the plot with *nonsaturating*'s "
    "(hundreds of times smaller: the original minimax loss saturates when D wins).\n\n"
    "**The end of the game** is when the purple cloud sits on the green one and D can no longer "
    "tell them apart there: for the BCE losses the shading over the data fades toward 0.5 (white)."
)
c2.markdown(
    "**Mode collapse.** A mode is one cluster of the real data (the ring has 8, the grid 25). "
    "G collapses when it puts all its points on one or a few clusters: they look perfectly real, "
    "so the share of points *near a mode* stays high, yet the *modes covered* counter drops and the "
    "dotted circles turn red. D then learns that this cluster is fake, the arrows swing "
    "toward another one, and the whole purple cloud hops there: G chases modes instead of covering them.\n\n"
    "**Things to try.** Set G's learning rate to 5× D's (0.005 and 0.001) on the ring: the purple "
    "points pile onto one or two clusters and hop around, and the coverage trace stays near the "
    "bottom. Then add a stabiliser and compare: more D steps (n_critic), a gradient penalty or R1 "
    "(a smoother D, gentler arrows), or instance noise (blurs both clouds, so D cannot build steep "
    "walls). The 25-mode grid is harder: even a healthy GAN needs thousands of steps to cover it. "
    "The Wasserstein losses show a raw score, not a probability: only its slope matters."
)
