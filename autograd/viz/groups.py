"""How a model library tells the drawings which of its Values belong together.

The drawing code knows no model library.  A library (chainrule's ``nn`` is one) marks its
Values with the two label types below; everywhere else they are plain ``str`` (printing,
comparing, JSON), so a reader of ``.label`` sees the name and nothing more:

* ``ParameterLabel(name)`` on a leaf the model learns: drawn as a parameter.
* ``NeuronLabel(name, layer)`` on a neuron's output: the nodes between the neuron's parameters
  (the leaves named ``<name>.<anything>``) and this output form a cluster, nested in a cluster
  for ``layer`` (None: no layer cluster), and ``collapse="neuron"`` draws them as one node.

Both may carry ``shown``, the name a picture writes instead of the dotted path (nn gives the
lecture's notation: ``W1[1][2]`` for a parameter, ``h_1`` for a neuron's output, its cluster
too); a ``NeuronLabel``'s ``layer_shown`` titles its layer's cluster (``hidden layer``).
Without them a picture shows the dotted names.

Names are dotted paths, as ``named_parameters()`` gives them.  ``draw(model=...)`` (anything
with ``named_parameters()``) or ``draw(params=...)`` names the parameters explicitly instead of
their labels.  Nothing here depends on how a model calls its attributes.
"""

from __future__ import annotations


class ParameterLabel(str):
    """The label of a parameter: a leaf the model learns (its dotted name), and the name
    pictures show for it (None: the dotted name)."""

    shown: str | None

    def __new__(cls, name: str, shown: str | None = None) -> ParameterLabel:
        label = super().__new__(cls, name)
        label.shown = shown
        return label

    def __reduce__(self):
        return ParameterLabel, (str(self), self.shown)


class NeuronLabel(str):
    """The label of a neuron's output (its dotted name), with the name of its layer (or None)."""

    layer: str | None
    shown: str | None  # the name pictures show for the output and the neuron's cluster
    layer_shown: str | None  # the title of the layer's cluster

    def __new__(
        cls,
        name: str,
        layer: str | None = None,
        shown: str | None = None,
        layer_shown: str | None = None,
    ) -> NeuronLabel:
        if layer is not None and not name.startswith(layer + "."):
            raise ValueError(f"neuron {name!r} is not inside its layer {layer!r}")
        label = super().__new__(cls, name)
        label.layer, label.shown, label.layer_shown = layer, shown, layer_shown
        return label

    def __reduce__(self):
        return NeuronLabel, (str(self), self.layer, self.shown, self.layer_shown)

    @property
    def short(self) -> str:
        """The name inside its layer (``neurons.1`` for ``layers.0.neurons.1``)."""
        return self[len(self.layer) + 1 :] if self.layer else str(self)
