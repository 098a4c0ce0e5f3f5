"""Makes the predicted-structure fixtures (Tests/Fixtures/proteins/predicted) from one experimental
fixture chain: the same atoms with a per-residue pLDDT, written the way predictors write it.

- af_model.cif: ModelCIF written by python-modelcif 1.8 (ihmwg, the ModelArchive library) with a
  local pLDDT metric per residue (`_ma_qa_metric_local`); the atoms' B_iso_or_equiv are all 50, so a
  reader that takes the B-factor instead of the metric is caught.
- af_model.pdb: PDB as AlphaFold DB writes it (TITLE naming AlphaFold, pLDDT in the B-factor
  column), written by gemmi 0.7.5.
- plddt.json: the pLDDT of each residue, in chain order.

usage: make-predicted-fixtures.py SOURCE_STRUCTURE OUT_DIR   (needs gemmi and modelcif)"""
import json, os, sys

import gemmi
import modelcif, modelcif.model, modelcif.qa_metric, modelcif.dumper

source, out = sys.argv[1], sys.argv[2]
st = gemmi.read_structure(source)
st.setup_entities()
st.remove_ligands_and_waters()
st.remove_hydrogens()
chain = st[0][0]
residues = []
for r in chain.first_conformer():   # first conformer, first altloc of each atom name
    if not r.find_atom("CA", "*"):
        continue
    copy = gemmi.Residue()
    copy.name, copy.seqid, copy.het_flag = r.name, r.seqid, "A"
    seen = set()
    for a in r:
        if a.name not in seen:
            seen.add(a.name)
            b = a.clone()
            b.altloc = "\0"
            copy.add_atom(b)
    residues.append(copy)
# a deterministic pLDDT profile with runs below and above 70 (and 50)
plddt = [round(35.0 + 60.0 * abs(((i * 7) % 40) - 20) / 20.0, 2) for i in range(len(residues))]

sequence = gemmi.one_letter_code([r.name for r in residues])
entity = modelcif.Entity(sequence, description="Model subunit")
asym = modelcif.AsymUnit(entity, details="Model subunit A", id="A")
assembly = modelcif.Assembly((asym,), name="Modeled assembly")
system = modelcif.System(title="AlphaFold prediction (BioEmbed test fixture)")


class Model(modelcif.model.AbInitioModel):
    def get_atoms(self):
        for k, r in enumerate(residues):
            for a in r:
                yield modelcif.model.Atom(asym_unit=asym, type_symbol=a.element.name, seq_id=k + 1, atom_id=a.name,
                                          x=a.pos.x, y=a.pos.y, z=a.pos.z, het=False, biso=50.0, occupancy=1.0)


class LocalPLDDT(modelcif.qa_metric.Local, modelcif.qa_metric.PLDDT):
    """Predicted accuracy according to the CA-only lDDT in [0,100]"""
    name = "pLDDT"
    software = None


model = Model(assembly=assembly, name="Top ranked model")
for k, value in enumerate(plddt):
    model.qa_metrics.append(LocalPLDDT(asym.residue(k + 1), value))
group = modelcif.model.ModelGroup([model], name="All models")
system.model_groups.append(group)
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "af_model.cif"), "w") as f:
    modelcif.dumper.write(f, [system])

# PDB: the same residues renumbered 1..N, pLDDT in the B-factor column, AlphaFold's TITLE
pdb = gemmi.Structure()
pdb.add_model(gemmi.Model(1))
new_chain = gemmi.Chain("A")
for k, r in enumerate(residues):
    copy = gemmi.Residue()
    copy.name, copy.seqid, copy.het_flag = r.name, gemmi.SeqId(k + 1, " "), "A"
    for a in r:
        b = a.clone()
        b.b_iso = plddt[k]
        copy.add_atom(b)
    new_chain.add_residue(copy)
pdb[0].add_chain(new_chain)
pdb.setup_entities()
text = pdb.make_pdb_string(gemmi.PdbWriteOptions(minimal=True))
with open(os.path.join(out, "af_model.pdb"), "w") as f:
    f.write("TITLE     ALPHAFOLD MONOMER V2.0 PREDICTION FOR BIOEMBED TEST FIXTURE\n" + text)
with open(os.path.join(out, "plddt.json"), "w") as f:
    json.dump({"source": os.path.basename(source), "sequence": sequence, "plddt": plddt}, f)
