"""Layer 4, interchange: runs leaving and entering the tool. Zip export and the safe import
(no pickles, bounded sizes), config files as JSON or YAML, TensorBoard event files. It may
import core, the plugins, metrics and store; the engine imports it to log to TensorBoard
while it trains."""
