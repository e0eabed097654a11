# drgn script: where TEXT occurs in the dump's physical memory, page by page (a page the
# dump left out is skipped), and whether each hit is in an anonymous user page (a VMM's
# guest memory is). Prints "present PAGES" then one "hit PHYS anon|other" per occurrence.
#
#   drgn -c VMCORE -s VMLINUX find-text.py TEXT
import sys
from drgn import FaultError
from drgn.helpers.linux.mm import compound_head, phys_to_page

needle = sys.argv[1].encode()
end = prog["max_pfn"].value_() << 12
present = 0
hits = []
for phys in range(0, end, 4096):
    try:
        data = prog.read(phys, 4096, True)  # page by page: drgn 0.0.22 crashes on larger reads of a filtered dump
    except FaultError:
        continue
    present += 1
    i = data.find(needle)
    while i >= 0:
        hits.append(phys + i)
        i = data.find(needle, i + 1)
print(f"present {present}")
for phys in hits:
    mapping = compound_head(phys_to_page(prog, phys)).mapping.value_()  # a huge page: its head says
    print(f"hit {phys:#x} {'anon' if mapping & 1 else 'other'}")
